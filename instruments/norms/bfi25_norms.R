# Human norms for the bfi-25 instrument, computed from psychTools::bfi (2,800 SAPA respondents).
#
# Run from the repository root:   Rscript instruments/norms/bfi25_norms.R
# Writes instruments/norms/bfi25_norms.json; then `python instruments/norms/apply_norms.py` copies the
# numbers into the `norms:` block of instruments/bfi-25.yaml.
#
# Data: Revelle, W. psychTools: Tools to Accompany the 'psych' Package for Psychological Research
#   (data set `bfi`: 25 IPIP items given to 2,800 participants of the SAPA web project, spring 2010,
#   6-point accuracy scale 1 Very Inaccurate .. 6 Very Accurate). Items: Goldberg (1999), IPIP.
#
# What is computed (and the choices made):
# * Scale scores: psych::scoreItems(keys, bfi[1:25], min = 1, max = 6, impute = "none"), i.e. the mean of
#   the answered keyed items of each scale (reverse keys A1 C4 C5 E1 E2 O2 O5 scored as 7 - x), so a
#   respondent missing an item is scored on the items answered and is dropped from a scale only when all
#   five items are missing. We use impute = "none" rather than psych's default "median" because it is the
#   rule psychometrika applies to model answers (missing and refused answers excluded, never filled in):
#   norms and model scores are then computed the same way. Human mean, SD (n - 1 denominator) and n are
#   taken over respondents with a score. Cronbach's alpha of each scale is stored for reference.
# * Item statistics: mean, SD and n of the raw (not reverse-keyed) answers of each item, pairwise complete.
# * Loading pattern: psych::fa(bfi[1:25], nfactors = 5, rotate = "oblimin", fm = "minres") on Pearson
#   correlations with pairwise deletion (psych's default). Each factor is named by the domain it marks:
#   the domain whose five items have the largest mean absolute loading on it (a one-to-one assignment is
#   checked). A factor is reflected, if needed, so that the keyed loadings of its own domain's items are
#   positive on average (the N factor is Neuroticism, not Emotional Stability). Factor correlations (Phi)
#   are stored with the same names and reflections.
suppressPackageStartupMessages({
  library(psych)
  library(psychTools)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path("instruments", "norms")
out_path <- file.path(here, "bfi25_norms.json")

data(bfi, package = "psychTools")
items <- bfi[, 1:25]
stopifnot(nrow(items) == 2800, identical(colnames(items), c(paste0("A", 1:5), paste0("C", 1:5),
          paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))))

domains <- c("A", "C", "E", "N", "O")
reverse <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
keys_list <- lapply(domains, function(d) {
  its <- paste0(d, 1:5)
  ifelse(its %in% reverse, paste0("-", its), its)
})
names(keys_list) <- domains

sc <- scoreItems(keys_list, items, min = 1, max = 6, impute = "none")
scores <- as.data.frame(sc$scores)
scale_norms <- lapply(domains, function(d) {
  x <- scores[[d]]
  x <- x[!is.na(x)]
  list(scale = d, mean = mean(x), sd = sd(x), n = length(x), alpha = unname(sc$alpha[1, d]),
       items = keys_list[[d]])
})

item_stats <- lapply(colnames(items), function(i) {
  x <- items[[i]]
  x <- x[!is.na(x)]
  list(mean = mean(x), sd = sd(x), n = length(x))
})
names(item_stats) <- colnames(items)

set.seed(1)  # fa() is deterministic here; the seed only guards against future changes in psych
f <- fa(items, nfactors = 5, rotate = "oblimin", fm = "minres")
L <- unclass(f$loadings)
Phi <- f$Phi
# name the factors: mean |loading| of each domain's items on each factor
domain_of <- substr(rownames(L), 1, 1)
strength <- sapply(colnames(L), function(fc) tapply(abs(L[, fc]), domain_of, mean)[domains])
rownames(strength) <- domains
assigned <- domains[apply(strength, 2, which.max)]
stopifnot(setequal(assigned, domains))
key_sign <- ifelse(rownames(L) %in% reverse, -1, 1)
flip <- sapply(seq_along(assigned), function(k) {
  own <- domain_of == assigned[k]
  if (mean(L[own, k] * key_sign[own]) < 0) -1 else 1
})
L <- sweep(L, 2, flip, `*`)
Phi <- Phi * outer(flip, flip)
orig_names <- colnames(L)
colnames(L) <- assigned
dimnames(Phi) <- list(assigned, assigned)
L <- L[, domains]
Phi <- Phi[domains, domains]

loadings <- lapply(rownames(L), function(i) as.list(L[i, ]))
names(loadings) <- rownames(L)

ages <- bfi$age
out <- list(
  instrument = "bfi-25",
  source = paste0("psychTools::bfi (Revelle, psychTools ", as.character(packageVersion("psychTools")),
                  "; SAPA project, spring 2010), scored with psych ", as.character(packageVersion("psych")),
                  " scoreItems(impute = 'none', min = 1, max = 6)"),
  population = sprintf(paste0("SAPA web sample (sapa-project.org), spring 2010, mostly US: %d respondents, ",
                              "%.0f%% female, median age %d (IQR %d-%d)"),
                       nrow(bfi), 100 * mean(bfi$gender == 2, na.rm = TRUE), as.integer(median(ages, na.rm = TRUE)),
                       as.integer(quantile(ages, 0.25, na.rm = TRUE)), as.integer(quantile(ages, 0.75, na.rm = TRUE))),
  n_respondents = nrow(bfi),
  scoring = list(rule = "mean", impute = "none", min = 1, max = 6, reverse_keyed = reverse),
  scales = scale_norms,
  items = item_stats,
  loadings = loadings,
  loadings_source = paste0("psych ", as.character(packageVersion("psych")),
                           "::fa(bfi[1:25], nfactors = 5, rotate = 'oblimin', fm = 'minres'), pairwise Pearson ",
                           "correlations, n = 2800; factors named by the domain they mark (original ",
                           paste0(orig_names, "=", assigned, collapse = ", "), ")",
                           if (any(flip < 0)) paste0("; reflected: ", paste(assigned[flip < 0], collapse = ", ")) else ""),
  factor_correlations = lapply(domains, function(d) as.list(Phi[d, ])),
  r_version = R.version.string
)
names(out$factor_correlations) <- domains
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_path)
cat("wrote", out_path, "\n")
