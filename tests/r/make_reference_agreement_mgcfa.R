# Reference values for issue 22 (tests/stats/test_agreement.py, test_cfa_boundary.py):
#   * multi-group CFA with a near-boundary group (a marker whose loading is almost 0, so the optimum has
#     a tiny factor variance and large loadings) on simulated 3-group data: lavaan::cfa configural fit,
#     each group fitted alone, and the invariance sequence (group.equal) with lavTestLRT;
#   * a just-identified model (df = 0; AGFI = 1 as lavaan) on psych::sat.act;
#   * psych::cohen.kappa (unweighted / weighted, with its CIs) on simulated ratings, a 3-rater table and
#     Fleiss, Cohen & Everitt's (1969) proportion table with and without disagreement weights;
#   * psych::mardia (multivariate skew and kurtosis) on psych::sat.act and HolzingerSwineford1939.
#
# Run through the driver (Rscript tests/r/make_reference.R) or alone:
#     Rscript tests/r/make_reference_agreement_mgcfa.R      (from the repository root)
# Writes tests/r/fixtures/issue22_reference.json and the data it used (mg_boundary.csv, kappa_ratings.csv,
# mardia_sat_act.csv, mardia_holzinger.csv). Needs lavaan, psych, MASS and jsonlite.
suppressPackageStartupMessages({ library(lavaan); library(psych); library(MASS); library(jsonlite) })
if (!exists("fixtures_dir")) fixtures_dir <- file.path("tests", "r", "fixtures")
dir.create(fixtures_dir, showWarnings = FALSE, recursive = TRUE)
frame <- function(d) { d <- as.data.frame(d); rownames(d) <- NULL; as.list(d) }
roundtrip <- function(d, name) {        # R fits the very numbers Python reads
  write.csv(d, file.path(fixtures_dir, name), row.names = FALSE, na = "")
  read.csv(file.path(fixtures_dir, name))
}

# ================================================================== multi-group CFA near a boundary
set.seed(2204)
sim_group <- function(n, l1, l2, phi = 0.3) {
  L <- matrix(0, 10, 2); L[1:5, 1] <- l1; L[6:10, 2] <- l2
  S <- L %*% matrix(c(1, phi, phi, 1), 2) %*% t(L); diag(S) <- 1
  x <- mvrnorm(n, rep(0, 10), S); colnames(x) <- paste0("y", 1:10); round(x, 4)
}
mg <- rbind(data.frame(grp = "a", sim_group(300, c(0.03, 0.7, 0.6, 0.7, 0.5), c(0.6, 0.7, 0.5, 0.6, 0.7))),
            data.frame(grp = "b", sim_group(500, c(0.6, 0.6, 0.7, 0.5, 0.6), c(0.6, 0.5, 0.7, 0.6, 0.6))),
            data.frame(grp = "c", sim_group(250, c(0.5, 0.7, 0.6, 0.7, 0.6), c(-0.05, 0.6, 0.7, 0.5, 0.6))))
mg <- roundtrip(mg, "mg_boundary.csv")
m_mg <- "F1 =~ y1 + y2 + y3 + y4 + y5\nF2 =~ y6 + y7 + y8 + y9 + y10"
FM <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic", "gfi", "agfi")
fm_list <- function(fit) as.list(fitMeasures(fit)[FM])
configural <- cfa(m_mg, data = mg, group = "grp")
pe <- parameterEstimates(configural)[, c("lhs", "op", "rhs", "group", "est", "se")]
per_group <- lapply(c(a = "a", b = "b", c = "c"), function(g) {
  f <- cfa(m_mg, data = mg[mg$grp == g, ])
  list(chisq = unname(fitMeasures(f)["chisq"]), converged = lavInspect(f, "converged"))
})
levels <- list(configural = "none", metric = "loadings", scalar = c("loadings", "intercepts"),
               strict = c("loadings", "intercepts", "residuals"))
inv <- lapply(levels, function(eq) cfa(m_mg, data = mg, group = "grp", group.equal = eq))
lrt <- lavTestLRT(inv$configural, inv$metric, inv$scalar, inv$strict)
multigroup <- list(data = "mg_boundary.csv", model = m_mg, group = "grp",
                   configural = list(fit_measures = fm_list(configural), parameters = frame(pe),
                                     converged = lavInspect(configural, "converged")),
                   per_group = per_group,
                   invariance = list(fits = lapply(inv, fm_list),
                                     converged = lapply(inv, function(f) lavInspect(f, "converged")),
                                     chisq_diff = I(unname(lrt[["Chisq diff"]])),
                                     df_diff = I(unname(lrt[["Df diff"]])), p = I(unname(lrt[["Pr(>Chisq)"]]))))

# ================================================================== just-identified model (df = 0)
sa <- roundtrip(psych::sat.act, "mardia_sat_act.csv")
m_ji <- "ability =~ ACT + SATV + SATQ"
ji <- cfa(m_ji, data = sa)    # 13 rows with a missing SATQ are dropped listwise
just_identified <- list(data = "mardia_sat_act.csv", model = m_ji,
                        fit_measures = as.list(fitMeasures(ji)[c("npar", "chisq", "df", "cfi", "tli", "rmsea",
                                                                 "srmr", "gfi", "agfi", "logl")]),
                        parameters = frame(parameterEstimates(ji)[, c("lhs", "op", "rhs", "est", "se")]))

# ================================================================== cohen.kappa
set.seed(1968)
truth <- sample(1:4, 150, replace = TRUE, prob = c(0.2, 0.3, 0.3, 0.2))
noisy <- function(t, p) ifelse(runif(length(t)) < p, t, pmin(4, pmax(1, t + sample(c(-1, 1, 2), length(t), TRUE))))
ratings <- data.frame(r1 = noisy(truth, 0.7), r2 = noisy(truth, 0.6), r3 = noisy(truth, 0.5))
ratings$r2[c(5, 40, 77)] <- NA
ratings <- roundtrip(ratings, "kappa_ratings.csv")
kappa_case <- function(ck) list(kappa = ck$kappa, weighted_kappa = ck$weighted.kappa, n_obs = ck$n.obs,
                                var_kappa = ck$var.kappa, var_weighted = ck$var.weighted,
                                confid = frame(ck$confid), agree = matrix(as.numeric(ck$agree), nrow(ck$agree)),
                                weight = unname(as.matrix(ck$weight)))
fleiss <- matrix(c(0.44, 0.07, 0.09, 0.05, 0.20, 0.05, 0.01, 0.03, 0.06), ncol = 3, byrow = TRUE)
fleiss_w <- matrix(c(0, 1, 3, 1, 0, 6, 3, 6, 0), ncol = 3)
three <- cohen.kappa(ratings)
kappa <- list(data = "kappa_ratings.csv",
              two_raters = kappa_case(cohen.kappa(ratings[, c("r1", "r2")])),
              two_raters_90 = kappa_case(cohen.kappa(ratings[, c("r1", "r2")], alpha = 0.10)),
              linear_weights = kappa_case(cohen.kappa(ratings[, c("r1", "r3")],
                                                      w = 1 - abs(outer(1:4, 1:4, "-")) / 3)),
              fleiss_table = c(kappa_case(cohen.kappa(fleiss, n.obs = 200)), list(table = fleiss, n_obs_given = 200)),
              fleiss_disagreement = c(kappa_case(cohen.kappa(fleiss, w = fleiss_w, n.obs = 200)),
                                      list(table = fleiss, w = fleiss_w)),
              three_raters = list(matrix = unname(three$cohen.kappa), av_kappa = three$av.kappa, av_wt = three$av.wt))

# ================================================================== mardia
hs <- roundtrip(HolzingerSwineford1939[, paste0("x", 1:9)], "mardia_holzinger.csv")
mardia_case <- function(x) {
  m <- mardia(x, plot = FALSE)
  list(n_obs = m$n.obs, n_var = m$n.var, b1p = m$b1p, b2p = m$b2p, skew = m$skew, small_skew = m$small.skew,
       p_skew = m$p.skew, p_small = m$p.small, kurtosis = m$kurtosis, p_kurt = m$p.kurt, d = I(unname(m$d)))
}
mardia_ref <- list(sat_act = c(list(data = "mardia_sat_act.csv"), mardia_case(sa)),
                   holzinger = c(list(data = "mardia_holzinger.csv"), mardia_case(hs)),
                   sat_act_scores = c(list(data = "mardia_sat_act.csv", vars = I(c("ACT", "SATV", "SATQ"))),
                                      mardia_case(sa[, c("ACT", "SATV", "SATQ")])))

out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                            psych = as.character(packageVersion("psych"))),
            multigroup = multigroup, just_identified = just_identified, cohen_kappa = kappa, mardia = mardia_ref)
write_json(out, file.path(fixtures_dir, "issue22_reference.json"), auto_unbox = TRUE, digits = NA,
           na = "null", pretty = FALSE)
cat("wrote issue22_reference.json\n")
