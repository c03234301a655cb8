"""Questionnaires: catalog copies, the editor and its checks."""
