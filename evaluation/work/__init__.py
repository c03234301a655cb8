"""Campaign work: learning tests, suggestions, report review, rectification, stages and look-backs."""
