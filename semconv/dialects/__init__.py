"""One normalizer per telemetry dialect; semconv.normalize chooses between them."""
