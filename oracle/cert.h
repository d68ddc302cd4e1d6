/* cert.h - the certificate of an answer and the result assembly (cert.c,
 * design.md (16)-(17)); attsvm_certify, its independent twin, is public.
 */
#ifndef ATTSVM_CERT_H
#define ATTSVM_CERT_H

#include "prob.h"

/** Fill the result from o: certificate (design.md (16)), dual list, support,
 *  acceptance against gap_tol / feas_tol.  Takes ownership of o->x. */
void attsvm__finish(const attsvm__prob *P, attsvm__out *o, attsvm_result *r);

#endif
