#!/usr/bin/env Rscript
# Driver: regenerate every R reference fixture used by the Python test-suite.
#
# Usage (from the repository root or anywhere):
#     Rscript tests/r/make_reference.R
#
# It source()s every tests/r/make_reference_*.R file in alphabetical order. Each of those
# scripts writes JSON (and the CSV data it used) into tests/r/fixtures/. CI has no R: the
# fixtures are committed and the Python tests only read them.
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else normalizePath("tests/r")
fixtures_dir <- file.path(here, "fixtures")
dir.create(fixtures_dir, showWarnings = FALSE, recursive = TRUE)
scripts <- sort(list.files(here, pattern = "^make_reference_.*\\.R$", full.names = TRUE))
for (s in scripts) {
  message("== sourcing ", basename(s))
  local({
    fixtures_dir <- fixtures_dir
    source(s, local = TRUE)
  })
}
message("done: ", length(scripts), " reference script(s)")
