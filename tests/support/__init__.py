"""Helpers shared by the test folders: factories, payloads, fakes, fixtures and checks."""
