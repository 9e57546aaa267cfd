"""The registry folder: what is on disk and verified, the loaded versions, labels, cards."""
