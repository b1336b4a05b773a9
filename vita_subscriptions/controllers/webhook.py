"""Stripe webhook endpoint."""
