"""Streamlit page file: the body is ui.views.prices.render()."""

from ui.views.prices import render

render()
