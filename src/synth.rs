//! The gamelan synthesizer: modal synthesis of the colotomic instruments from the data in
//! GAMELAN.md, and the writer of the default pack (`gongan synth`).
