"""Free-text understanding in Vietnamese, Thai and English, all local: language, sentiment,
themes and aspects, trainable on a business's own feedback."""
