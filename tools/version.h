// Sparrow's version, shown by `sparrow version`.
#ifndef SPARROW_TOOLS_VERSION_H_
#define SPARROW_TOOLS_VERSION_H_

#define SPARROW_VERSION "0.1.0"

#endif  // SPARROW_TOOLS_VERSION_H_
