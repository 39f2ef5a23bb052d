//! pq (in progress).
