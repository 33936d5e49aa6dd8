//! Sessions: plans of timeboxed segments, colotomic forms, and the pure timeline that maps
//! them onto audio frames.
