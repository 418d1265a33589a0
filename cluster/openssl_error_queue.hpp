#pragma once
// Makes CAF 0.17's TLS connections survive each other's failures (see the
// .cpp). Nothing to call at run time: enable_networking() refers to it so
// that the linker keeps it in every program that may use TLS.

namespace streamlab {

void link_openssl_error_queue_fix();

}  // namespace streamlab
