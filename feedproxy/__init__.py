"""Result-feed tools: the caching proxy (``feedproxy serve``) and the election-night simulator."""
