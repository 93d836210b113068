"""Streamlit page file: the body is ui.views.budgets.render()."""

from ui.views.budgets import render

render()
