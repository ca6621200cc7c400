"""Retention: which shards have outlived their retention policy, and dropping them."""
