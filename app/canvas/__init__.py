"""The plot and everything drawn on it.

Gestures, tools, plot items, the projection of many columns, the axes picker, the
model's density map, the points' histogram, samples. Imports only :mod:`app.state`.
"""
