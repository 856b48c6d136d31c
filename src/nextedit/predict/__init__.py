"""Providers behind `nextedit predict` and the server: one interface, many backends."""
