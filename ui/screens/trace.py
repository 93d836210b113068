"""Streamlit page file: the body is ui.views.trace.render()."""

from ui.views.trace import render

render()
