# Reference values from R's lavaan (CFA), effectsize (effect sizes with noncentral CIs) and psych
# (ICC, corr.test) for tests/stats/test_cfa.py, test_effects.py and test_icc.py.
#
# Run through the driver (Rscript tests/r/make_reference.R) or alone:
#     Rscript tests/r/make_reference_lavaan_effects.R      (from the repository root)
# Writes tests/r/fixtures/lavaan_*.json, effects_*.json, icc_*.json plus the CSV data R used
# (lavaan_hs_school.csv, lavaan_poldem.csv, effects_*.csv). Needs lavaan, effectsize, psych,
# psychTools and jsonlite.
suppressPackageStartupMessages({
  library(lavaan); library(effectsize); library(psych); library(psychTools); library(jsonlite)
})
if (!exists("fixtures_dir")) fixtures_dir <- file.path("tests", "r", "fixtures")
dir.create(fixtures_dir, showWarnings = FALSE, recursive = TRUE)

save_ref <- function(obj, name) {
  write_json(obj, file.path(fixtures_dir, paste0(name, ".json")),
             auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE)
}
versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                 effectsize = as.character(packageVersion("effectsize")),
                 psych = as.character(packageVersion("psych")))
frame <- function(d) { d <- as.data.frame(d); rownames(d) <- NULL; as.list(d) }

# ================================================================== lavaan ==========
FM <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "baseline.pvalue",
        "cfi", "tli", "nnfi", "rfi", "nfi", "ifi", "logl", "unrestricted.logl", "aic", "bic", "bic2",
        "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "srmr_bentler", "gfi", "agfi")
cfa_case <- function(fit, data, model, extra = list()) {
  fm <- fitMeasures(fit)
  fm <- fm[intersect(FM, names(fm))]
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  keep <- intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper"),
                    names(pe))
  pe <- pe[, keep]
  sl <- standardizedSolution(fit, type = "std.lv")
  c(list(data = data, model = model, fit_measures = as.list(fm), parameters = frame(pe),
         std_all = frame(ss[, intersect(c("lhs", "op", "rhs", "group", "est.std", "se", "z", "pvalue",
                                          "ci.lower", "ci.upper"), names(ss))]),
         std_lv_solution = frame(sl[, intersect(c("lhs", "op", "rhs", "group", "est.std"), names(sl))]),
         ntotal = lavInspect(fit, "ntotal")), extra)
}

hs_full <- lavaan::HolzingerSwineford1939
write.csv(hs_full[, c("school", paste0("x", 1:9))], file.path(fixtures_dir, "lavaan_hs_school.csv"),
          row.names = FALSE)
hs <- hs_full[, paste0("x", 1:9)]
m_hs <- "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9"
fit_hs <- cfa(m_hs, data = hs)
fit_hs_lv <- cfa(m_hs, data = hs, std.lv = TRUE)

# covariance-matrix input (R's cov, N - 1), labels, equality constraints, fixed values, comments
m_hs_eq <- "# equal loadings for the textual factor\nvisual =~ x1 + x2 +\n   x3\ntextual =~ x4 + a*x5 + a*x6  # label a twice\nspeed =~ 1*x7 + x8 + 0.8*x9\nvisual ~~ 0*speed"
S_hs <- cov(hs)
fit_cov <- cfa(m_hs_eq, sample.cov = S_hs, sample.nobs = nrow(hs))

# PoliticalDemocracy: three factors with correlated residuals (Bollen 1989)
pd <- lavaan::PoliticalDemocracy
write.csv(pd, file.path(fixtures_dir, "lavaan_poldem.csv"), row.names = FALSE)
m_pd <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
fit_pd <- cfa(m_pd, data = pd)

# bfi: five factors, complete cases (listwise, lavaan's default)
bfi_items <- psychTools::bfi[, 1:25]
m_bfi <- paste(sapply(c("A", "C", "E", "N", "O"), function(s)
  paste0(s, "f =~ ", paste0(s, 1:5, collapse = " + "))), collapse = "\n")
fit_bfi <- cfa(m_bfi, data = bfi_items)

# multi-group (configural): HS39 by school
fit_mg <- cfa(m_hs, data = hs_full, group = "school")

save_ref(list(versions = versions,
              hs = cfa_case(fit_hs, "holzinger.csv", m_hs),
              hs_std_lv = cfa_case(fit_hs_lv, "holzinger.csv", m_hs, list(std_lv_model = TRUE)),
              hs_cov = cfa_case(fit_cov, "holzinger.csv", m_hs_eq,
                                list(sample_cov = list(names = I(colnames(S_hs)), values = unname(S_hs)),
                                     n_obs = nrow(hs))),
              poldem = cfa_case(fit_pd, "lavaan_poldem.csv", m_pd),
              bfi = cfa_case(fit_bfi, "bfi.csv", m_bfi),
              hs_school = cfa_case(fit_mg, "lavaan_hs_school.csv", m_hs,
                                   list(group = "school", group_labels = I(lavInspect(fit_mg, "group.label")),
                                        nobs = I(unlist(lavInspect(fit_mg, "nobs")))))),
         "lavaan_cfa")

# ================================================================== effectsize ======
es_row <- function(x) { x <- as.data.frame(x); as.list(x[1, setdiff(names(x), "Parameter"), drop = FALSE]) }
sl <- sleep
x_sl <- sl$extra[sl$group == 1]; y_sl <- sl$extra[sl$group == 2]
mt <- mtcars
x_mt <- mt$mpg[mt$am == 1]; y_mt <- mt$mpg[mt$am == 0]
bf <- psychTools::bfi
bf_e <- na.omit(bf[, c("E1", "gender")])
x_bf <- bf_e$E1[bf_e$gender == 1]; y_bf <- bf_e$E1[bf_e$gender == 2]
samples <- list(sleep = list(x = x_sl, y = y_sl), mtcars = list(x = x_mt, y = y_mt),
                bfi_E1_gender = list(x = x_bf, y = y_bf))
two <- lapply(samples, function(s) list(
  x = I(s$x), y = I(s$y),
  cohen_d = es_row(cohens_d(s$x, s$y)),
  cohen_d_welch = es_row(cohens_d(s$x, s$y, pooled_sd = FALSE)),
  cohen_d_90 = es_row(cohens_d(s$x, s$y, ci = 0.90)),
  cohen_d_mu = es_row(cohens_d(s$x, s$y, mu = 1)),
  hedges_g = es_row(hedges_g(s$x, s$y)),
  hedges_g_welch = es_row(hedges_g(s$x, s$y, pooled_sd = FALSE)),
  glass_delta = es_row(glass_delta(s$x, s$y)),
  one_sample = es_row(cohens_d(s$x, mu = 0.5)),
  one_sample_g = es_row(hedges_g(s$x, mu = 0.5))))
paired <- list(x = I(x_sl), y = I(y_sl),
               cohen_d = es_row(cohens_d(x_sl, y_sl, paired = TRUE)),
               hedges_g = es_row(hedges_g(x_sl, y_sl, paired = TRUE)))

# ANOVA effect sizes: mtcars mpg ~ cyl * am (type I sums of squares, like stats::aov)
mt$cyl_f <- factor(mt$cyl); mt$am_f <- factor(mt$am)
write.csv(mt[, c("mpg", "cyl", "am", "hp", "wt")], file.path(fixtures_dir, "effects_mtcars.csv"), row.names = FALSE)
a2 <- aov(mpg ~ cyl_f * am_f, data = mt)
a1 <- aov(mpg ~ cyl_f, data = mt)
tab <- function(x) { x <- as.data.frame(x); rownames(x) <- NULL; as.list(x) }
anova_ref <- list(
  two_way = list(formula = "mpg ~ C(cyl) * C(am)",
                 eta2_partial = tab(eta_squared(a2, partial = TRUE, verbose = FALSE)),
                 eta2 = tab(eta_squared(a2, partial = FALSE, verbose = FALSE)),
                 omega2_partial = tab(omega_squared(a2, partial = TRUE, verbose = FALSE)),
                 omega2 = tab(omega_squared(a2, partial = FALSE, verbose = FALSE)),
                 eta2_partial_two_sided = tab(eta_squared(a2, partial = TRUE, alternative = "two.sided",
                                                          verbose = FALSE))),
  one_way = list(formula = "mpg ~ C(cyl)",
                 eta2 = tab(eta_squared(a1, verbose = FALSE)),
                 omega2 = tab(omega_squared(a1, verbose = FALSE))))

# Cohen's h: two proportions from a 2 x 2 table (mtcars: vs by am)
tb <- table(mt$vs, mt$am)
h_ref <- list(table = unname(unclass(tb)), p1 = tb[1, 1] / sum(tb[, 1]), p2 = tb[1, 2] / sum(tb[, 2]),
              n1 = sum(tb[, 1]), n2 = sum(tb[, 2]), cohen_h = es_row(cohens_h(tb)),
              cohen_h_90 = es_row(cohens_h(tb, ci = 0.9)))

# correlations with Fisher-z CIs: psych::corr.test on sat.act (pairwise missing), cor.test
sa <- psych::sat.act[, c("age", "education", "ACT", "SATV", "SATQ")]
ct <- corr.test(sa, adjust = "none")
ct_s <- corr.test(sa, adjust = "none", method = "spearman")
ctt <- cor.test(sa$SATV, sa$SATQ)
ctt90 <- cor.test(sa$SATV, sa$ACT, conf.level = 0.90)
cor_ref <- list(data = "sat_act.csv", vars = I(colnames(sa)),
                pearson = list(r = unname(ct$r), n = unname(ct$n), p = unname(ct$p), ci = frame(ct$ci)),
                ci_names = I(rownames(ct$ci)),
                spearman = list(r = unname(ct_s$r), p = unname(ct_s$p), ci = frame(ct_s$ci)),
                cor_test = list(r = unname(ctt$estimate), p = ctt$p.value, ci = I(as.vector(ctt$conf.int)),
                                n = sum(complete.cases(sa$SATV, sa$SATQ))),
                cor_test_90 = list(r = unname(ctt90$estimate), p = ctt90$p.value,
                                   ci = I(as.vector(ctt90$conf.int))))

save_ref(list(versions = versions, two_sample = two, paired = paired, anova = anova_ref, cohen_h = h_ref,
              cor = cor_ref), "effects_reference")

# ================================================================== ICC ============
sf <- matrix(c(9, 2, 5, 8, 6, 1, 3, 2, 8, 4, 6, 8, 7, 1, 2, 6, 10, 5, 6, 9, 6, 2, 4, 7),
             ncol = 4, byrow = TRUE)  # Shrout & Fleiss (1979), Table 2
colnames(sf) <- paste0("J", 1:4)
icc_case <- function(x, lmer = FALSE, alpha = 0.05) {
  r <- ICC(x, lmer = lmer, alpha = alpha)
  res <- r$results; rownames(res) <- NULL
  list(x = unname(as.matrix(x)), cols = I(colnames(x)), results = as.list(res),
       stats = unname(r$stats), MSW = r$MSW)
}
att <- datasets::attitude[, c("rating", "complaints", "privileges", "learning")]
save_ref(list(versions = versions, sf = icc_case(sf), sf_90 = icc_case(sf, alpha = 0.10),
              sf_lmer = icc_case(sf, lmer = TRUE), attitude = icc_case(att)), "icc_reference")
message("lavaan/effectsize/ICC fixtures written to ", fixtures_dir)
