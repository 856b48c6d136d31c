"""Thin protocol adapters over :class:`nextedit.server.service.PredictionService`."""
