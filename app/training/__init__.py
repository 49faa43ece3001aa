"""The GUI-side training controller and everything that runs in the training thread.

The job, the trainers, step by step, snapshots, starts, and choosing K. Imports only
:mod:`app.state` of the program.
"""
