"""The GUI-side training controller and everything that runs in the training thread:
the job, the trainers, step by step, snapshots, starts, and choosing K."""
