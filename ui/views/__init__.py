"""Page bodies: each module's `render()` draws one page (ui/screens/*.py call them)."""
