// Tensor geometry: contiguity, views sharing storage, reshape/transpose/slice.
#include "check.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"

using namespace lamina;

static Tensor iota(const Shape& s, Dtype dt = Dtype::Float32) {
  return reshape(arange(0, static_cast<double>(shape_numel(s)), 1, dt), s);
}

TEST(contiguous_strides_row_major) {
  Tensor t = zeros({2, 3, 4});
  CHECK((t.strides() == Strides{12, 4, 1}));
  CHECK(t.is_contiguous());
  CHECK(t.size() == 24);
}

TEST(transpose_is_a_view) {
  Tensor t = iota({2, 3});
  Tensor tt = transpose(t);
  CHECK(tt.impl()->storage == t.impl()->storage);
  CHECK((tt.shape() == Shape{3, 2}));
  CHECK(!tt.is_contiguous());
  Tensor c = contiguous(tt);
  CHECK(c.is_contiguous());
  CHECK(c.data<float>()[1] == 3.0f);  // tt[0,1] = t[1,0]
}

TEST(reshape_view_and_copy) {
  Tensor t = iota({4, 6});
  Tensor r = reshape(t, {2, 12});
  CHECK(r.impl()->storage == t.impl()->storage);
  Tensor tt = transpose(t);  // (6, 4), not contiguous
  Tensor r2 = reshape(tt, {24});
  CHECK(r2.impl()->storage != t.impl()->storage);
  CHECK(r2.data<float>()[1] == 6.0f);
  CHECK_THROWS(reshape(t, {5, 5}), ValueError);
}

TEST(slice_with_negative_step) {
  Tensor t = iota({5});
  Tensor s = slice(t, {4}, {-1}, {-2});  // 4, 2, 0
  CHECK((s.shape() == Shape{3}));
  Tensor c = contiguous(s);
  CHECK(c.data<float>()[0] == 4.0f && c.data<float>()[1] == 2.0f && c.data<float>()[2] == 0.0f);
}

TEST(broadcast_to_has_zero_strides) {
  Tensor t = iota({3, 1});
  Tensor b = broadcast_to(t, {2, 3, 4});
  CHECK(b.strides()[0] == 0 && b.strides()[2] == 0);
  Tensor c = contiguous(b);
  CHECK(c.data<float>()[4] == 1.0f);
}

TEST(zero_d_and_empty) {
  Tensor s = scalar(3.5, Dtype::Float64);
  CHECK(s.ndim() == 0 && s.size() == 1);
  Tensor e = zeros({0, 3});
  CHECK(e.size() == 0);
  Tensor se = sum(e, std::vector<int64_t>{0});
  CHECK((se.shape() == Shape{3}));
  CHECK(se.data<float>()[0] == 0.0f);
}

TEST(axis_errors) {
  Tensor t = zeros({2, 3});
  CHECK_THROWS(sum(t, std::vector<int64_t>{2}), IndexError);
  CHECK_THROWS(transpose(t, std::vector<int64_t>{0, 0}), ValueError);
}

TEST_MAIN()
