"""What every resource class shares."""
from __future__ import annotations


class Resource:
    """A resource built with the app's settings (responders pass them to the domain)."""

    def __init__(self, settings):
        self.settings = settings
