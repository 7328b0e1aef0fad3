# Reference values from R's lavaan for measurement invariance (tests/stats/test_invariance.py):
# HS39 three-factor model by school, configural / metric / scalar / strict (group.equal) and a partial
# scalar model (group.partial), with fitMeasures, parameterEstimates and lavTestLRT of the nested sequence.
#
#     Rscript tests/r/make_reference_invariance.R      (from the repository root)
# Writes tests/r/fixtures/lavaan_invariance.json; reads tests/r/fixtures/lavaan_hs_school.csv (written by
# make_reference_lavaan_effects.R from lavaan::HolzingerSwineford1939). Needs lavaan and jsonlite.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
if (!exists("fixtures_dir")) fixtures_dir <- file.path("tests", "r", "fixtures")
hs <- read.csv(file.path(fixtures_dir, "lavaan_hs_school.csv"))
m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
FM <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic")
levels <- list(configural = "none", metric = "loadings", scalar = c("loadings", "intercepts"),
               strict = c("loadings", "intercepts", "residuals"))
fits <- lapply(levels, function(eq) cfa(m_hs, data = hs, group = "school", group.equal = eq))
partial <- cfa(m_hs, data = hs, group = "school", group.equal = c("loadings", "intercepts"),
               group.partial = c("x3 ~ 1", "x7 ~ 1"))
case <- function(fit, eq, part = character(0)) {
  pe <- parameterEstimates(fit)[, c("lhs", "op", "rhs", "group", "est", "se")]
  rownames(pe) <- NULL
  list(group_equal = I(eq), group_partial = I(part), fit_measures = as.list(fitMeasures(fit)[FM]),
       parameters = as.list(pe))
}
lrt <- lavTestLRT(fits$configural, fits$metric, fits$scalar, fits$strict)
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            data = "lavaan_hs_school.csv", model = m_hs, group = "school",
            fits = c(mapply(case, fits, levels, SIMPLIFY = FALSE),
                     list(partial_scalar = case(partial, levels$scalar, c("x3~1", "x7~1")))),
            lrt = list(chisq_diff = I(unname(lrt[["Chisq diff"]])), df_diff = I(unname(lrt[["Df diff"]])),
                       p = I(unname(lrt[["Pr(>Chisq)"]]))))
write_json(out, file.path(fixtures_dir, "lavaan_invariance.json"), auto_unbox = TRUE, digits = NA,
           na = "null", pretty = FALSE)
cat("wrote lavaan_invariance.json\n")
