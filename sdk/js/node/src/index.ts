// @portcullis/node: verifies Portcullis session and elevated tokens on a
// Node.js backend, and follows the environment's revocation feed
// (docs/verify.md, "Node").

export { createVerifier, ALGORITHMS } from './verifier.js';
export type { RevocationCheck, Verifier, VerifierOptions, VerifyElevatedOptions, VerifySessionOptions } from './verifier.js';
export { followRevocations } from './follow.js';
export type { FollowOptions, RevocationFollower, StalePolicy } from './follow.js';
export { parseFeedPage, RevocationIndex } from './revocations.js';
export type { RevocationClaims, RevocationFeedPage } from './revocations.js';
export { PortcullisAuthError } from './errors.js';
export type { PortcullisErrorCode, PortcullisProblem } from './errors.js';
export {
  ELEVATED_TOKEN_TYP,
  hasScope,
  SCOPE_REQUIRES_ADDITIONAL_AUTH,
  SCOPE_USER_BASIC,
  SESSION_TOKEN_TYP,
} from './claims.js';
export type { PortcullisClaims } from './claims.js';
export {
  authenticate,
  ELEVATED_TOKEN_HEADER,
  portcullisExpress,
  portcullisFastify,
  problemHeaders,
  SESSION_COOKIE,
  tokenFromHeaders,
} from './middleware.js';
export type {
  ExpressLikeMiddleware,
  ExpressLikeRequest,
  FastifyLikeReply,
  FastifyLikeRequest,
  GuardOptions,
  PortcullisRequestFields,
} from './middleware.js';
