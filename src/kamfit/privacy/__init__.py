"""Privacy: data classification, subject-access export, erasure and retention."""
