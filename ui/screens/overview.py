"""Streamlit page file: the body is ui.views.overview.render()."""

from ui.views.overview import render

render()
