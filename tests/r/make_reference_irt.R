# Reference values for IRT, DIF and ordinal (polychoric) statistics, used by
# tests/stats/test_irt.py, test_dif.py and test_response_styles.py.
#
# Run through the driver (Rscript tests/r/make_reference.R) or alone:
#     Rscript tests/r/make_reference_irt.R      (from the repository root)
# Reads tests/r/fixtures/bfi.csv and ability.csv (written by make_reference_psych.R) and writes
# tests/r/fixtures/irt_*.json. Needs psych, statmod, lme4, eRm, MASS and jsonlite.
#
# The 2PL and the graded response model are fitted here by an independent implementation:
# the marginal log-likelihood (Gauss-Hermite quadrature, statmod::gauss.quad.prob(61, "normal"))
# is maximised directly with optim(BFGS) and the standard errors come from optimHess - no EM.
# The Rasch model is also fitted by lme4::glmer (adaptive quadrature) and eRm::RM (conditional ML).
suppressPackageStartupMessages({
  library(psych); library(statmod); library(lme4); library(eRm); library(MASS); library(jsonlite)
})
if (!exists("fixtures_dir")) fixtures_dir <- file.path("tests", "r", "fixtures")
dir.create(fixtures_dir, showWarnings = FALSE, recursive = TRUE)

mat <- function(m) {
  m <- as.matrix(unclass(m))
  if (is.null(rownames(m))) rownames(m) <- paste0("V", seq_len(nrow(m)))
  if (is.null(colnames(m))) colnames(m) <- paste0("C", seq_len(ncol(m)))
  list(rows = I(rownames(m)), cols = I(colnames(m)), values = unname(m))
}
vec <- function(v) list(names = I(if (is.null(names(v))) paste0("V", seq_along(v)) else names(v)),
                        values = I(unname(as.vector(v))))
save_json <- function(obj, name) {
  write_json(obj, file.path(fixtures_dir, paste0("irt_", name, ".json")),
             auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE)
}
versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                 lme4 = as.character(packageVersion("lme4")), eRm = as.character(packageVersion("eRm")),
                 MASS = as.character(packageVersion("MASS")), statmod = as.character(packageVersion("statmod")))

bfi <- read.csv(file.path(fixtures_dir, "bfi.csv"))
ability <- read.csv(file.path(fixtures_dir, "ability.csv"))

# ---------------------------------------------------------------- polychoric ----
poly_case <- function(items, keys = NULL) {
  x <- bfi[, items]
  p <- suppressWarnings(polychoric(x))
  out <- list(data = "bfi.csv", items = I(items), rho = mat(p$rho), tau = mat(p$tau))
  a <- suppressWarnings(psych::alpha(p$rho, keys = keys))
  out$ordinal_alpha <- vec(unlist(a$total))
  out$keys <- if (is.null(keys)) NULL else I(keys)
  out
}
poly_ref <- list(
  versions = versions,
  N = poly_case(paste0("N", 1:5)),
  A = poly_case(paste0("A", 1:5), keys = "A1"),
  mixed = poly_case(c("A2", "A3", "education"))          # unequal categories: psych sets global = FALSE
)
ab <- suppressWarnings(polychoric(ability[, 1:6]))
poly_ref$ability <- list(data = "ability.csv", items = I(names(ability)[1:6]), rho = mat(ab$rho), tau = mat(ab$tau))
om_items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5))
om_rho <- suppressWarnings(polychoric(bfi[, om_items]))$rho
om <- suppressWarnings(omega(om_rho, nfactors = 3, plot = FALSE))
poly_ref$ordinal_omega <- list(data = "bfi.csv", items = I(om_items), nfactors = 3, omega_h = om$omega_h,
                               omega_tot = om$omega.tot, alpha = om$alpha)
save_json(poly_ref, "polychoric")

# ---------------------------------------------------------------- MML by direct optimisation --
gh <- gauss.quad.prob(61, dist = "normal")
Q <- gh$nodes; W <- gh$weights

# category probabilities P(X = k | theta_q), k = 0..K-1 (rows) at the nodes (columns), computed
# in the tail-accurate form S_k - S_{k+1} = (1 - S_{k+1}) - (1 - S_k) where S > 1/2; cells that
# underflow are floored at the smallest positive double; crossing thresholds give NULL.
cat_prob <- function(a, d, K) {
  z <- outer(rep(a, length(d)), Q) + d
  zu <- rbind(Inf, z); zl <- rbind(z, -Inf)              # P_k = S(zu_k) - S(zl_k), zu > zl
  P <- ifelse(zl > 0, plogis(-zl) - plogis(-zu), plogis(zu) - plogis(zl))
  if (any(P < 0) || any(diff(d) > 0)) return(NULL)
  P[P < .Machine$double.xmin] <- .Machine$double.xmin
  P
}
# x: data frame with responses coded 0..K-1 (NA allowed); par: per item a, d_1 > ... > d_{K-1}
grm_loglik_items <- function(par, x, K, equal_a = FALSE) {
  n <- nrow(x); J <- ncol(x); L <- matrix(0, n, length(Q)); pos <- 1
  a_common <- if (equal_a) { pos <- 2; par[1] } else NA
  for (j in 1:J) {
    if (equal_a) a <- a_common else { a <- par[pos]; pos <- pos + 1 }
    d <- par[pos:(pos + K[j] - 2)]; pos <- pos + K[j] - 1
    P <- cat_prob(a, d, K[j])
    if (is.null(P)) return(NULL)
    lP <- log(P)
    obs <- !is.na(x[, j])
    L[obs, ] <- L[obs, ] + lP[x[obs, j] + 1, , drop = FALSE]
  }
  L
}
row_max <- function(L) matrixStats::rowMaxs(L)
marg_ll <- function(par, x, K, equal_a = FALSE) {
  L <- grm_loglik_items(par, x, K, equal_a)
  if (is.null(L)) return(-1e10)
  m <- row_max(L)
  sum(m + log(exp(L - m) %*% W))
}
# analytic gradient (Fisher identity: expected complete-data score under the posterior)
marg_grad <- function(par, x, K, equal_a = FALSE) {
  L <- grm_loglik_items(par, x, K, equal_a)
  if (is.null(L)) return(rep(0, length(par)))
  post <- exp(L - row_max(L)) * matrix(W, nrow(L), length(W), byrow = TRUE)
  post <- post / rowSums(post)
  g <- numeric(length(par)); pos <- if (equal_a) 2 else 1
  for (j in seq_along(K)) {
    if (equal_a) { a <- par[1]; ia <- 1 } else { a <- par[pos]; ia <- pos; pos <- pos + 1 }
    id <- pos:(pos + K[j] - 2); d <- par[id]; pos <- pos + K[j] - 1
    S <- rbind(1, plogis(outer(rep(a, length(d)), Q) + d), 0); Wd <- S * (1 - S)
    P <- cat_prob(a, d, K[j])
    obs <- !is.na(x[, j])
    R <- sapply(0:(K[j] - 1), function(k) colSums(post[obs, , drop = FALSE] * (x[obs, j] == k)))  # Q x K
    RP <- t(R) / P                                                                                  # K x Q
    g[ia] <- g[ia] + sum(Q * colSums(RP * (Wd[1:K[j], , drop = FALSE] - Wd[2:(K[j] + 1), , drop = FALSE])))
    for (m in seq_along(d)) g[id[m]] <- sum(Wd[m + 1, ] * (RP[m + 1, ] - RP[m, ]))
  }
  g
}
start_par <- function(x, K) {
  unlist(lapply(seq_along(K), function(j) {
    p <- cumsum(tabulate(x[!is.na(x[, j]), j] + 1, K[j])) / sum(!is.na(x[, j]))
    c(1, qlogis(1 - p[1:(K[j] - 1)]))
  }))
}
fit_mml <- function(x, equal_a = FALSE) {
  K <- sapply(x, function(col) max(col, na.rm = TRUE) + 1)
  st <- start_par(x, K)
  if (equal_a) st <- c(1, st[-cumsum(c(1, head(K, -1)))])
  f <- function(p) -marg_ll(p, x, K, equal_a)
  gr <- function(p) -marg_grad(p, x, K, equal_a)
  o1 <- nlminb(st, f, gr, control = list(eval.max = 5000, iter.max = 5000, rel.tol = 1e-15))
  o <- optim(o1$par, f, gr, method = "BFGS", control = list(maxit = 5000, reltol = 1e-16))
  par <- o$par
  for (it in 1:20) {                     # polish with Newton steps (numerical Hessian of the gradient)
    H <- optimHess(par, f, gr)
    step <- solve(H, gr(par))
    par <- par - step
    if (max(abs(step)) < 1e-10) break
  }
  o$par <- par; o$value <- f(par)
  H <- optimHess(o$par, f, gr)
  se <- sqrt(diag(solve(H)))
  list(par = o$par, se = se, loglik = -o$value, K = K, convergence = o$convergence,
       max_abs_gradient = max(abs(gr(o$par))))
}
eap <- function(par, x, K, rows) {
  L <- grm_loglik_items(par, x[rows, , drop = FALSE], K)
  post <- exp(L - row_max(L)) * matrix(W, nrow(L), length(W), byrow = TRUE)
  post <- post / rowSums(post)
  th <- as.vector(post %*% Q)
  sd <- sqrt(as.vector(post %*% Q^2) - th^2)
  list(theta = I(th), se = I(sd))
}
info <- function(par, K, theta) {   # test information of a GRM at theta
  tot <- 0 * theta; pos <- 1
  for (j in seq_along(K)) {
    a <- par[pos]; d <- par[(pos + 1):(pos + K[j] - 1)]; pos <- pos + K[j]
    for (t in seq_along(theta)) {
      S <- c(1, plogis(a * theta[t] + d), 0); Wd <- S * (1 - S)
      P <- S[1:K[j]] - S[2:(K[j] + 1)]; dP <- a * (Wd[1:K[j]] - Wd[2:(K[j] + 1)])
      tot[t] <- tot[t] + sum(dP^2 / P)
    }
  }
  tot
}

set.seed(1)
theta_grid <- c(-3, -1.5, 0, 0.5, 2)
ab_x <- ability
twopl <- fit_mml(ab_x)
grm_items <- paste0("N", 1:5)
grm_x <- as.data.frame(lapply(bfi[, grm_items], function(v) v - 1))
grm <- fit_mml(grm_x)
irt_ref <- list(
  versions = versions,
  quadrature = "statmod::gauss.quad.prob(61, 'normal'); optim BFGS on the marginal log-likelihood; optimHess SEs",
  twopl = list(data = "ability.csv", items = I(names(ability)), par = I(twopl$par), se = I(twopl$se),
               loglik = twopl$loglik, convergence = twopl$convergence, max_abs_gradient = twopl$max_abs_gradient, theta = I(theta_grid),
               information = I(info(twopl$par, twopl$K, theta_grid)), eap_rows = I(1:25),
               eap = eap(twopl$par, ab_x, twopl$K, 1:25)),
  grm = list(data = "bfi.csv", items = I(grm_items), par = I(grm$par), se = I(grm$se), loglik = grm$loglik,
             convergence = grm$convergence, theta = I(theta_grid),
             information = I(info(grm$par, grm$K, theta_grid)), eap_rows = I(1:25),
             eap = eap(grm$par, grm_x, grm$K, 1:25))
)
# Rasch (equal slopes) by the same direct MML ...
rasch <- fit_mml(ab_x, equal_a = TRUE)
irt_ref$rasch_mml <- list(data = "ability.csv", par = I(rasch$par), se = I(rasch$se), loglik = rasch$loglik)
# ... by lme4::glmer (adaptive Gauss-Hermite quadrature, 25 points): item intercepts and person SD
long <- data.frame(id = factor(rep(seq_len(nrow(ab_x)), ncol(ab_x))),
                   item = factor(rep(names(ab_x), each = nrow(ab_x)), levels = names(ab_x)),
                   y = unlist(ab_x, use.names = FALSE))
long <- long[!is.na(long$y), ]
gm <- glmer(y ~ 0 + item + (1 | id), data = long, family = binomial, nAGQ = 25,
            control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
irt_ref$rasch_glmer <- list(intercepts = vec(setNames(fixef(gm), names(ab_x))),
                            sd = as.numeric(attr(VarCorr(gm)$id, "stddev")), loglik = as.numeric(logLik(gm)))
# ... and by eRm::RM (conditional ML; item easiness parameters, sum-zero normalisation)
rm_fit <- RM(as.matrix(ab_x[rowSums(!is.na(ab_x)) > 1, ]), sum0 = TRUE)
irt_ref$rasch_erm <- list(beta = vec(setNames(rm_fit$betapar, names(ab_x))))
# psych::irt.fa (factor analysis of tetrachorics, rough cross-check of discriminations)
ifa <- suppressWarnings(irt.fa(ab_x, plot = FALSE))
irt_ref$irt_fa <- list(discrimination = vec(setNames(ifa$irt$discrimination[, 1], names(ab_x))),
                       difficulty = vec(setNames(ifa$irt$difficulty[[1]], names(ab_x))))
save_json(irt_ref, "mml")

# ---------------------------------------------------------------- logistic-regression DIF ----
nagelkerke <- function(ll, ll0, n) (1 - exp(2 * (ll0 - ll) / n)) / (1 - exp(2 * ll0 / n))
dif_item <- function(y, match, g, ordinal) {
  if (ordinal) {
    y <- factor(y, ordered = TRUE)
    m0 <- polr(y ~ 1, Hess = FALSE); m1 <- polr(y ~ match); m2 <- polr(y ~ match + g); m3 <- polr(y ~ match * g)
  } else {
    m0 <- glm(y ~ 1, family = binomial); m1 <- glm(y ~ match, family = binomial)
    m2 <- glm(y ~ match + g, family = binomial); m3 <- glm(y ~ match * g, family = binomial)
  }
  ll <- sapply(list(m0, m1, m2, m3), function(m) as.numeric(logLik(m)))
  n <- length(y)
  r2 <- nagelkerke(ll[2:4], ll[1], n)
  c(ll0 = ll[1], ll1 = ll[2], ll2 = ll[3], ll3 = ll[4], chi_uniform = 2 * (ll[3] - ll[2]),
    chi_nonuniform = 2 * (ll[4] - ll[3]), chi_total = 2 * (ll[4] - ll[2]), r2_1 = r2[1], r2_2 = r2[2], r2_3 = r2[3])
}
dif_case <- function(x, g, ordinal) {
  ok <- complete.cases(x) & !is.na(g)
  x <- x[ok, ]; g <- factor(g[ok])
  res <- t(sapply(names(x), function(it) dif_item(x[[it]], rowSums(x[, setdiff(names(x), it)]), g, ordinal)))
  mat(res)
}
bfi_bin <- as.data.frame(lapply(bfi[, paste0("N", 1:5)], function(v) as.integer(v >= 4)))
dif_ref <- list(
  versions = versions,
  matching = "rest score (sum of the other items), complete cases; group = gender",
  ordinal = list(data = "bfi.csv", items = I(paste0("N", 1:5)), group = "gender",
                 table = dif_case(bfi[, paste0("N", 1:5)], bfi$gender, TRUE)),
  binary = list(data = "bfi.csv", items = I(paste0("N", 1:5)), group = "gender", dichotomise_at = 4,
                table = dif_case(bfi_bin, bfi$gender, FALSE))
)
save_json(dif_ref, "dif")
