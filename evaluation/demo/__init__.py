"""The demo campaign: the seed's units, ballots, learning tests and campaign work, built through the services."""
