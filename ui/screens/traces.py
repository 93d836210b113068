"""Streamlit page file: the body is ui.views.traces.render()."""

from ui.views.traces import render

render()
