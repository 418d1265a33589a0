#pragma once
// `streamlab cluster certs`: a private CA for one cluster and a
// certificate per member or client, signed by it, for --tls-cert,
// --tls-key and --tls-ca. Made with the OpenSSL library, so no openssl
// tool or config file has to be on the machine.

#include <string>
#include <vector>

namespace streamlab {

// Writes DIR/ca.pem, DIR/ca.key and NAME.pem, NAME.key for each name
// (EC P-256, SHA-256, valid `days` days, for both the server and the client
// end of a connection, since a member is both). Keys are created 0600.
// Creates DIR if needed. Refuses, before writing anything, when any of
// the files exists. Returns the paths written; throws std::runtime_error
// naming the path on any failure.
std::vector<std::string> write_cluster_certificates(const std::string& dir,
                                                    const std::vector<std::string>& names,
                                                    int days);

}  // namespace streamlab
