"""Streamlit page file: the body is ui.views.requests.render()."""

from ui.views.requests import render

render()
