"""Streamlit page file: the body is ui.views.keys.render()."""

from ui.views.keys import render

render()
