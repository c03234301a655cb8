"""Ballot codes: issuing and voiding batches, printable slips, and paper ballots keyed in twice."""
