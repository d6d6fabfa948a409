"""What the program is worth: the holdout comparison, its statistics and the cohorts.

Plain Python that knows nothing of Flask; the admin's effect page renders what it returns.
"""
