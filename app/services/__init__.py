"""The service layer: one public function per user action, one transaction and one audit entry each.

Channels import what they need from here; the modules inside import from `.base`, never from this package."""
from .base import SYSTEM, Actor, authorize, new_reference, transaction

__all__ = ["SYSTEM", "Actor", "authorize", "new_reference", "transaction"]
