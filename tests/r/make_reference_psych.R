# Reference values from R's psych (reliability, factor analysis, descriptives) for
# tests/stats/test_reliability.py, test_factor.py and test_descriptives.py.
#
# Run through the driver (Rscript tests/r/make_reference.R) or alone:
#     Rscript tests/r/make_reference_psych.R      (from the repository root)
# Writes tests/r/fixtures/psych_*.json plus the CSV data R used (bfi.csv, holzinger.csv,
# ability.csv, sat_act.csv, harman74_cor.csv). Needs psych, psychTools, GPArotation,
# lavaan and jsonlite.
suppressPackageStartupMessages({
  library(psych); library(psychTools); library(GPArotation); library(lavaan); library(jsonlite)
})
if (!exists("fixtures_dir")) fixtures_dir <- file.path("tests", "r", "fixtures")
dir.create(fixtures_dir, showWarnings = FALSE, recursive = TRUE)

mat <- function(m) {
  m <- if (is.data.frame(m)) as.matrix(m) else as.matrix(unclass(m))
  if (is.null(rownames(m))) rownames(m) <- paste0("V", seq_len(nrow(m)))
  if (is.null(colnames(m))) colnames(m) <- paste0("C", seq_len(ncol(m)))
  list(rows = I(rownames(m)), cols = I(colnames(m)), values = unname(m))
}
vec <- function(v) { v <- unclass(v); list(names = I(if (is.null(names(v))) paste0("V", seq_along(v)) else names(v)), values = I(unname(as.vector(v)))) }
save_json <- function(obj, name) {
  write_json(obj, file.path(fixtures_dir, paste0("psych_", name, ".json")),
             auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE)
}
versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                 psychTools = as.character(packageVersion("psychTools")),
                 GPArotation = as.character(packageVersion("GPArotation")))

# ---------------------------------------------------------------- data used -----
bfi_df <- psychTools::bfi
write.csv(bfi_df, file.path(fixtures_dir, "bfi.csv"), row.names = FALSE, na = "")
hs <- lavaan::HolzingerSwineford1939[, paste0("x", 1:9)]
write.csv(hs, file.path(fixtures_dir, "holzinger.csv"), row.names = FALSE, na = "")
ab <- psychTools::ability
write.csv(ab, file.path(fixtures_dir, "ability.csv"), row.names = FALSE, na = "")
sa <- psych::sat.act
write.csv(sa, file.path(fixtures_dir, "sat_act.csv"), row.names = FALSE, na = "")
harman <- Harman74.cor$cov
write.csv(harman, file.path(fixtures_dir, "harman74_cor.csv"), row.names = TRUE)
harman_n <- Harman74.cor$n.obs

# ---------------------------------------------------------------- alpha ---------
alpha_case <- function(x, keys = NULL, check.keys = FALSE, boot = FALSE) {
  set.seed(42)
  a <- suppressWarnings(alpha(x, keys = keys, check.keys = check.keys,
                              n.iter = if (boot) 1000 else 1))
  out <- list(total = vec(unlist(a$total)), alpha_drop = mat(a$alpha.drop),
              item_stats = mat(a$item.stats),
              feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
              keys = I(unname(unlist(a$keys))))
  if (!is.null(a$response.freq)) out$response_freq <- mat(a$response.freq)
  if (boot) out$boot_ci <- vec(a$boot.ci)
  out
}
alpha_ref <- list(
  versions = versions,
  bfi_A = c(list(data = "bfi.csv", items = I(paste0("A", 1:5)), keys = I("A1"), check_keys = FALSE),
            alpha_case(bfi_df[1:5], keys = c("A1"), boot = TRUE)),
  bfi_A_checkkeys = c(list(data = "bfi.csv", items = I(paste0("A", 1:5)), keys = NULL, check_keys = TRUE),
                      alpha_case(bfi_df[1:5], check.keys = TRUE)),
  bfi_C = c(list(data = "bfi.csv", items = I(paste0("C", 1:5)), keys = I(c("C4", "C5")), check_keys = FALSE),
            alpha_case(bfi_df[6:10], keys = c("C4", "C5"))),
  bfi_N = c(list(data = "bfi.csv", items = I(paste0("N", 1:5)), keys = NULL, check_keys = FALSE),
            alpha_case(bfi_df[16:20])),
  ability = c(list(data = "ability.csv", items = I(colnames(ab)), keys = NULL, check_keys = FALSE),
              alpha_case(ab)),
  holzinger = c(list(data = "holzinger.csv", items = I(colnames(hs)), keys = NULL, check_keys = FALSE),
                alpha_case(hs))
)
a_h <- suppressWarnings(alpha(harman))
alpha_ref$harman74 <- list(data = "harman74_cor.csv", n_obs = NULL,
                           total = vec(unlist(a_h$total)), alpha_drop = mat(a_h$alpha.drop),
                           item_stats = mat(a_h$item.stats))
save_json(alpha_ref, "alpha")

# ---------------------------------------------------------------- split half / guttman
split_case <- function(x, check.keys) {
  s <- splitHalf(x, check.keys = check.keys)
  list(maxrb = s$maxrb, minrb = s$minrb, meanr = s$meanr, av_r = s$av.r, med_r = s$med.r,
       alpha = s$alpha, lambda2 = s$lambda2, lambda6 = s$lambda6)
}
set.seed(1)
split_ref <- list(
  versions = versions,
  bfi_A = c(list(data = "bfi.csv", items = I(paste0("A", 1:5)), check_keys = TRUE), split_case(bfi_df[1:5], TRUE)),
  bfi_AC = c(list(data = "bfi.csv", items = I(colnames(bfi_df)[1:10]), check_keys = TRUE), split_case(bfi_df[1:10], TRUE)),
  holzinger = c(list(data = "holzinger.csv", items = I(colnames(hs)), check_keys = FALSE), split_case(hs, FALSE)),
  ability = c(list(data = "ability.csv", items = I(colnames(ab)), check_keys = FALSE), split_case(ab, FALSE)),
  bfi_25_sampled = c(list(data = "bfi.csv", items = I(colnames(bfi_df)[1:25]), check_keys = TRUE), split_case(bfi_df[1:25], TRUE))
)
save_json(split_ref, "splithalf")

gutt_case <- function(x, key = NULL) {
  g <- suppressWarnings(suppressMessages(guttman(x, key = key)))
  list(lambda_1 = g$lambda.1, lambda_2 = g$lambda.2, lambda_3 = g$lambda.3, lambda_4 = g$lambda.4,
       lambda_5 = g$lambda.5, lambda_5p = g$lambda.5p, lambda_6 = g$lambda.6, glb = g$glb,
       alpha_pc = g$alpha.pc, r_pc = g$r.pc, beta_pc = g$beta.pc, beta = g$beta,
       tenberge = vec(unlist(g$tenberge)))
}
gutt_ref <- list(
  versions = versions,
  bfi_A = c(list(data = "bfi.csv", items = I(paste0("A", 1:5)), keys = I("A1")), gutt_case(transform(bfi_df[1:5], A1 = 7 - A1))),
  holzinger = c(list(data = "holzinger.csv", items = I(colnames(hs)), keys = NULL), gutt_case(hs)),
  ability = c(list(data = "ability.csv", items = I(colnames(ab)), keys = NULL), gutt_case(ab))
)
save_json(gutt_ref, "guttman")

# ---------------------------------------------------------------- factor analysis -
fit_stats <- function(f) {
  list(chi = f$chi, dof = f$dof, EPVAL = f$EPVAL, rms = f$rms, crms = f$crms, EBIC = f$EBIC,
       ESABIC = f$ESABIC, fit = f$fit, fit_off = f$fit.off, objective = f$objective,
       STATISTIC = f$STATISTIC, PVAL = f$PVAL, null_chisq = f$null.chisq, null_dof = f$null.dof,
       null_model = f$null.model, TLI = f$TLI, RMSEA = vec(f$RMSEA), BIC = f$BIC, SABIC = f$SABIC,
       nh = f$nh, n_obs = f$n.obs)
}
fa_case <- function(x, nfactors, fm, rotate, n.obs = NA, data, items) {
  f <- suppressWarnings(fa(x, nfactors = nfactors, fm = fm, rotate = rotate, n.obs = n.obs))
  out <- list(data = data, items = I(items), nfactors = nfactors, fm = fm, rotate = rotate,
              n_obs = if (is.na(n.obs)) NULL else n.obs,
              loadings = mat(f$loadings), communality = vec(f$communality),
              communalities = vec(f$communalities), uniquenesses = vec(f$uniquenesses),
              values = I(f$values), e_values = I(f$e.values), complexity = vec(f$complexity),
              Vaccounted = mat(f$Vaccounted), R2 = I(unname(f$R2)), fit = fit_stats(f))
  if (!is.null(f$Phi)) out$Phi <- mat(f$Phi)
  out
}
fa_ref <- list(
  versions = versions,
  bfi_5_minres_oblimin = fa_case(bfi_df[1:25], 5, "minres", "oblimin", data = "bfi.csv", items = colnames(bfi_df)[1:25]),
  bfi_5_ml_varimax = fa_case(bfi_df[1:25], 5, "ml", "varimax", data = "bfi.csv", items = colnames(bfi_df)[1:25]),
  bfi_5_pa_promax = fa_case(bfi_df[1:25], 5, "pa", "promax", data = "bfi.csv", items = colnames(bfi_df)[1:25]),
  hs_3_ml_oblimin = fa_case(hs, 3, "ml", "oblimin", data = "holzinger.csv", items = colnames(hs)),
  hs_3_pa_promax = fa_case(hs, 3, "pa", "promax", data = "holzinger.csv", items = colnames(hs)),
  hs_3_minres_none = fa_case(hs, 3, "minres", "none", data = "holzinger.csv", items = colnames(hs)),
  hs_1_minres = fa_case(hs, 1, "minres", "oblimin", data = "holzinger.csv", items = colnames(hs)),
  harman_4_minres_oblimin = fa_case(harman, 4, "minres", "oblimin", n.obs = harman_n, data = "harman74_cor.csv", items = colnames(harman)),
  harman_4_pa_varimax = fa_case(harman, 4, "pa", "varimax", n.obs = harman_n, data = "harman74_cor.csv", items = colnames(harman)),
  harman_4_ml_promax = fa_case(harman, 4, "ml", "promax", n.obs = harman_n, data = "harman74_cor.csv", items = colnames(harman)),
  ability_1_minres = fa_case(ab, 1, "minres", "none", data = "ability.csv", items = colnames(ab)),
  ability_2_ml_oblimin = fa_case(ab, 2, "ml", "oblimin", data = "ability.csv", items = colnames(ab))
)
save_json(fa_ref, "fa")

f1 <- fa(bfi_df[1:25], 5, fm = "minres", rotate = "oblimin")
f2 <- fa(bfi_df[1:25], 5, fm = "ml", rotate = "varimax")
save_json(list(versions = versions, L1 = mat(f1$loadings), L2 = mat(f2$loadings),
               congruence = mat(factor.congruence(f1, f2, digits = 15))), "congruence")

# ---------------------------------------------------------------- omega ----------
omega_case <- function(x, nfactors, n.obs = NA, data, items) {
  o <- suppressWarnings(suppressMessages(omega(x, nfactors = nfactors, n.obs = n.obs, plot = FALSE)))
  list(data = data, items = I(items), nfactors = nfactors, n_obs = if (is.na(n.obs)) NULL else n.obs,
       omega_h = o$omega_h, omega_lim = o$omega.lim, alpha = o$alpha, omega_tot = o$omega.tot,
       G6 = o$G6, ECV = unname(o$ECV), sl = mat(o$schmid$sl), orthog = mat(o$schmid$orthog),
       oblique = mat(o$schmid$oblique), phi = mat(o$schmid$phi), gloading = mat(o$schmid$gloading),
       omega_group = mat(o$omega.group))
}
omega_ref <- list(
  versions = versions,
  bfi_3 = omega_case(bfi_df[1:25], 3, data = "bfi.csv", items = colnames(bfi_df)[1:25]),
  hs_3 = omega_case(hs, 3, data = "holzinger.csv", items = colnames(hs)),
  harman_4 = omega_case(harman, 4, n.obs = harman_n, data = "harman74_cor.csv", items = colnames(harman)),
  ability_3 = omega_case(ab, 3, data = "ability.csv", items = colnames(ab))
)
save_json(omega_ref, "omega")

# ---------------------------------------------------------------- KMO / Bartlett / parallel
k1 <- KMO(bfi_df[1:25]); k2 <- KMO(hs); k3 <- KMO(harman)
b1 <- cortest.bartlett(bfi_df[1:25]); b2 <- cortest.bartlett(harman, n = harman_n); b3 <- cortest.bartlett(hs)
save_json(list(versions = versions,
               kmo = list(bfi = list(data = "bfi.csv", items = I(colnames(bfi_df)[1:25]), MSA = k1$MSA, MSAi = vec(k1$MSAi)),
                          hs = list(data = "holzinger.csv", items = I(colnames(hs)), MSA = k2$MSA, MSAi = vec(k2$MSAi)),
                          harman = list(data = "harman74_cor.csv", MSA = k3$MSA, MSAi = vec(k3$MSAi))),
               bartlett = list(bfi = list(data = "bfi.csv", items = I(colnames(bfi_df)[1:25]), chisq = b1$chisq, df = b1$df, p_value = b1$p.value),
                               harman = list(data = "harman74_cor.csv", n_obs = harman_n, chisq = b2$chisq, df = b2$df, p_value = b2$p.value),
                               hs = list(data = "holzinger.csv", items = I(colnames(hs)), chisq = b3$chisq, df = b3$df, p_value = b3$p.value))),
          "kmo_bartlett")

par_case <- function(x, data, items) {
  set.seed(7)
  p <- suppressWarnings(suppressMessages(fa.parallel(x, n.iter = 20, plot = FALSE)))
  list(data = data, items = I(items), fa_values = I(p$fa.values), pc_values = I(p$pc.values),
       pc_sim = I(p$pc.sim), fa_sim = I(p$fa.sim), pc_simr = I(p$pc.simr), fa_simr = I(p$fa.simr),
       nfact = p$nfact, ncomp = p$ncomp)
}
invisible(capture.output(
  par_ref <- list(versions = versions,
                  bfi = par_case(bfi_df[1:25], "bfi.csv", colnames(bfi_df)[1:25]),
                  hs = par_case(hs, "holzinger.csv", colnames(hs)))))
save_json(par_ref, "parallel")

# ---------------------------------------------------------------- scoreItems -------
score_case <- function(keys, items, impute = "median") {
  s <- suppressWarnings(scoreItems(keys, items, impute = impute))
  out <- list(alpha = mat(s$alpha), av_r = mat(s$av.r), G6 = mat(s$G6), n_items = vec(s$n.items),
              cor = mat(s$cor), corrected = mat(s$corrected), item_cor = mat(s$item.cor),
              item_corrected = mat(s$item.corrected), med_r = vec(s$med.r))
  if (!is.null(s$scores)) out$scores <- mat(s$scores)
  if (!is.null(s$ase)) out$ase <- mat(s$ase)
  out
}
bkeys <- lapply(psychTools::bfi.keys, as.character)
harman_keys <- list(spatial = colnames(harman)[1:4], verbal = colnames(harman)[5:9],
                    speed = colnames(harman)[10:13], memory = colnames(harman)[14:19])
score_ref <- list(
  versions = versions, keys = bkeys,
  bfi_median = c(list(data = "bfi.csv"), score_case(bkeys, bfi_df, "median")),
  bfi_none = c(list(data = "bfi.csv"), score_case(bkeys, bfi_df, "none")),
  harman = c(list(data = "harman74_cor.csv", keys2 = harman_keys), score_case(harman_keys, harman))
)
save_json(score_ref, "scoreitems")

# ---------------------------------------------------------------- describe ---------
desc_case <- function(x, data) {
  d <- describe(x)
  c(list(data = data), list(table = mat(as.matrix(as.data.frame(d)))))
}
save_json(list(versions = versions,
               bfi = desc_case(bfi_df, "bfi.csv"),
               sat_act = desc_case(sa, "sat_act.csv"),
               ability = desc_case(ab, "ability.csv")), "describe")
message("psych fixtures written to ", normalizePath(fixtures_dir))
