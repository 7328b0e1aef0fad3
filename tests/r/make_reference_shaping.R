# Reference values for pm.shaping_validity / pm.spearman_test (issue 20; tests/design/test_shaping.py).
#
# Data: target levels 1..9 of 4 personas each (n = 36, heavy ties as in a shaping design) and a measured
# score that rises with the level plus noise; a second score unrelated to the level; a 2-level (high/low)
# variable of n = 32. R's cor.test(method = "spearman", exact = FALSE) gives rho, S and the two-sided p; it
# gives no confidence interval for Spearman's rho, so the intervals are computed here with the two formulas
# psychometrika implements (Fisher z; SE of Bonett & Wright 2000: sqrt((1 + rho^2/2)/(n - 3)); SE of Fieller,
# Hartley & Pearson 1957: sqrt(1.06/(n - 3))).
#
#     Rscript tests/r/make_reference_shaping.R        (from the repository root)
# Writes tests/r/fixtures/shaping_reference.json and shaping_data.csv. Needs jsonlite.
suppressPackageStartupMessages(library(jsonlite))
if (!exists("fixtures_dir")) fixtures_dir <- file.path("tests", "r", "fixtures")
dir.create(fixtures_dir, showWarnings = FALSE, recursive = TRUE)
set.seed(2020)
level <- rep(1:9, each = 4)
score_on <- round(2.2 + 0.25 * level + rnorm(36, 0, 0.45), 3)
score_off <- round(3 + rnorm(36, 0, 0.5), 3)
d <- data.frame(level = level, score_on = score_on, score_off = score_off)
write.csv(d, file.path(fixtures_dir, "shaping_data.csv"), row.names = FALSE)
d <- read.csv(file.path(fixtures_dir, "shaping_data.csv"))   # R works on the very numbers Python reads
hl <- rep(c(1, 2), 16); hl_score <- round(3 + 0.6 * (hl - 1.5) + rnorm(32, 0, 0.5), 3)
ci_of <- function(r, n, se) { z <- atanh(r); q <- qnorm(0.975); c(tanh(z - q * se), tanh(z + q * se)) }
ref <- function(x, y) {
  ct <- suppressWarnings(cor.test(x, y, method = "spearman", exact = FALSE))
  r <- unname(ct$estimate); n <- length(x)
  list(n = n, rho = r, S = unname(ct$statistic), p = ct$p.value,
       ci_bonett_wright = ci_of(r, n, sqrt((1 + r^2 / 2) / (n - 3))),
       ci_fieller = ci_of(r, n, sqrt(1.06 / (n - 3))))
}
out <- list(on = ref(d$level, d$score_on), off = ref(d$level, d$score_off),
            highlow = c(ref(hl, hl_score), list(x = hl, y = hl_score)),
            R = R.version.string)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(fixtures_dir, "shaping_reference.json"))
