"""Host-side half of the icl suite (trusted; never mounted into a sandbox)."""
