//! PEM/DER (in progress).
