#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace lamina {

// Ordered by promotion rank: a binary op between two dtypes of the same kind
// takes the higher one.
enum class Dtype : uint8_t { Bool, Int32, Int64, Float32, Float64 };

inline size_t itemsize(Dtype d) {
  switch (d) {
    case Dtype::Bool: return 1;
    case Dtype::Int32: return 4;
    case Dtype::Int64: return 8;
    case Dtype::Float32: return 4;
    case Dtype::Float64: return 8;
  }
  return 0;
}

inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Bool: return "bool";
    case Dtype::Int32: return "int32";
    case Dtype::Int64: return "int64";
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
  }
  return "?";
}

inline bool is_floating(Dtype d) { return d == Dtype::Float32 || d == Dtype::Float64; }
inline bool is_integral(Dtype d) { return d == Dtype::Int32 || d == Dtype::Int64; }

Dtype dtype_from_name(const std::string& name);

// NumPy's promotion table for two arrays (int32 with float32 gives float64).
Dtype promote_types(Dtype a, Dtype b);

// The float dtype an op on `d` computes in: ints and bool go to float32,
// as in keras.ops (NumPy would pick float64).
inline Dtype float_type(Dtype d) { return is_floating(d) ? d : Dtype::Float32; }

// Calls fn with a value of the C++ type of `dt` (only used for its type).
#define LAMINA_DISPATCH_ALL(dt, NAME, ...)                        \
  [&] {                                                           \
    switch (dt) {                                                 \
      case ::lamina::Dtype::Bool: { using scalar_t = bool; return __VA_ARGS__(); }       \
      case ::lamina::Dtype::Int32: { using scalar_t = int32_t; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Int64: { using scalar_t = int64_t; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Float32: { using scalar_t = float; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Float64: { using scalar_t = double; return __VA_ARGS__(); }  \
    }                                                             \
    throw std::runtime_error(std::string("[") + NAME + "] bad dtype"); \
  }()

#define LAMINA_DISPATCH_NUMERIC(dt, NAME, ...)                    \
  [&] {                                                           \
    switch (dt) {                                                 \
      case ::lamina::Dtype::Int32: { using scalar_t = int32_t; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Int64: { using scalar_t = int64_t; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Float32: { using scalar_t = float; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Float64: { using scalar_t = double; return __VA_ARGS__(); }  \
      default: break;                                             \
    }                                                             \
    throw ::lamina::TypeError(std::string("[") + NAME + "] unsupported dtype " + dtype_name(dt)); \
  }()

#define LAMINA_DISPATCH_FLOAT(dt, NAME, ...)                      \
  [&] {                                                           \
    switch (dt) {                                                 \
      case ::lamina::Dtype::Float32: { using scalar_t = float; return __VA_ARGS__(); }   \
      case ::lamina::Dtype::Float64: { using scalar_t = double; return __VA_ARGS__(); }  \
      default: break;                                             \
    }                                                             \
    throw ::lamina::TypeError(std::string("[") + NAME + "] expected a float dtype, got " + dtype_name(dt)); \
  }()

// Errors map onto Python's ValueError / TypeError / IndexError in the bindings.
struct ValueError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct TypeError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct IndexError : std::out_of_range { using std::out_of_range::out_of_range; };

}  // namespace lamina
