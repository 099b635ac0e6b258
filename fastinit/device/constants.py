"""The constants of fastinit's transforms (``fastinit/src/transforms.h``) as
IEEE bit patterns, for the device kernels.

The C literals are the reference: ``tests/test_device_constants.py`` parses the
header and checks every value here against it bit for bit. Bit patterns, not
decimal literals, so nothing between this file and the kernel can round a
value differently (a float32 constant is the float32 the C compiler makes
of its ``f`` literal; a float64 one the double). Each polynomial is highest
degree first, in the order Horner's rule uses it. Plain Python: importing
this needs neither NumPy nor Triton.
"""
import struct


def _f32(*bits):
    return tuple(struct.unpack("<f", struct.pack("<I", b))[0] for b in bits)


def _f64(*bits):
    return tuple(struct.unpack("<d", struct.pack("<Q", b))[0] for b in bits)


LOG_F32_COEF = _f32(
    0x3d9021bb, 0xbdebd1b8, 0x3def251a, 0xbdfe5d4f, 0x3e11e9bf, 0xbe2aae50, 0x3e4cceac, 0xbe7ffffc,
    0x3eaaaaaa)
LOG_F64_EVEN_COEF = _f64(
    0x3fc39a09d078c69f, 0x3fcc71c51d8e78af, 0x3fd999999997fa04)
LOG_F64_ODD_COEF = _f64(
    0x3fc2f112df3e5244, 0x3fc7466496cb03de, 0x3fd2492494229359, 0x3fe5555555555593)
SIN_F32_COEF = _f32(
    0xb94ca1f9, 0x3c08839e, 0xbe2aaaa3)
COS_F32_COEF = _f32(
    0x37ccf5ce, 0xbab6061a, 0x3d2aaaa5)
SIN_F64_COEF = _f64(
    0x3de5d93a5acfd57c, 0xbe5ae5e68a2b9ceb, 0x3ec71de357b1fe7d, 0xbf2a01a019c161d5,
    0x3f8111111110f8a6, 0xbfc5555555555549)
COS_F64_COEF = _f64(
    0xbda8fae9be8838d4, 0x3e21ee9ebdb4b1c4, 0xbe927e4f809c52ad, 0x3efa01a019cb1590,
    0xbf56c16c16c15177, 0x3fa555555555554c)
NDTRI_F32_CENTRAL_NUM = _f32(
    0x426c7000, 0x431f4a88, 0x4249bcb2, 0x4058c6c8)
NDTRI_F32_CENTRAL_DEN = _f32(
    0x42866008, 0x429d83f9, 0x418f294f, 0x3f800000)
NDTRI_F32_MID_NUM = _f32(
    0x3e2e52ed, 0x3fa742e1, 0x40306faa, 0x3fb63331)
NDTRI_F32_MID_DEN = _f32(
    0x3df6315c, 0x3f3cac24, 0x3f800000)
NDTRI_F32_FAR_NUM = _f32(
    0x3c8e06c1, 0x3edb7c55, 0x404532d0, 0x40d50d8f)
NDTRI_F32_FAR_DEN = _f32(
    0x3c48d6a1, 0x3e77c954, 0x3f800000)
NDTRI_F64_CENTRAL_NUM = _f64(
    0x40a39a296f7d925e, 0x40e052d26b2e45e4, 0x40f06c1c55b78f20, 0x40e66c3e869b752a,
    0x40cad1d8cd4ee71d, 0x409ece5d2213c0cc, 0x4060a4888b1a436e, 0x400b18d91e9eef75)
NDTRI_F64_CENTRAL_DEN = _f64(
    0x40b46a7eca984b69, 0x40dc0e457cb1ae76, 0x40e3317caa64f4be, 0x40d4b772d5d65266,
    0x40b512322e75c89f, 0x4085797efdc8b3f7, 0x4045281b386e1ab5, 0x3ff0000000000000)
NDTRI_F64_MID_NUM = _f64(
    0x3f49615ac0b7ace9, 0x3f9744eb6c45ec67, 0x3fcef2abb9b85c37, 0x3ff453cc085375b2,
    0x400d2ecb1a3d02c4, 0x401713f71462256a, 0x4012857748cab19b, 0x3ff6c665fde9526a)
NDTRI_F64_MID_DEN = _f64(
    0x3e120d3f686439e4, 0x3f41f18cbfdf2728, 0x3f8f207a7eab17bf, 0x3fc2f5123394f040,
    0x3fe61292f23385c9, 0x3ffad278e6526633, 0x40006cefbb46a449, 0x3ff0000000000000)
NDTRI_F64_FAR_NUM = _f64(
    0x3e8afb74d693bf93, 0x3efc6ec6cc59e02a, 0x3f545c1908425345, 0x3f9b2b41193b4ee7,
    0x3fd2fad9315255cf, 0x3ffc8ea6461fa445, 0x4015daea6e875003, 0x401aa1b1c13ee526)
NDTRI_F64_FAR_DEN = _f64(
    0x3ce269bff1f8c190, 0x3e831446f740b9e0, 0x3ef35c2c496374bf, 0x3f49c8bc979dc5d7,
    0x3f8e76f93215462a, 0x3fc186eb183443fb, 0x3fe331d34fc7d77f, 0x3ff0000000000000)

# scalars: ln 2 split for the exact exponent product, and the inline literals
# of the sincos and AS 241 code (name: the C literal)
LN2_HI_F32, LN2_LO_F32 = _f32(0x3f318000, 0xb95e8083)
LN2_HI_F64, LN2_LO_F64 = _f64(0x3fe62e42fee00000, 0x3dea39ef35793c76)
HALF_PI_F32, = _f32(0x3fc90fdb)           # 1.57079632679489661923f
HALF_PI_F64, = _f64(0x3ff921fb54442d18)   # 1.57079632679489661923
NDTRI_SPLIT_F32, NDTRI_SPLIT_F64 = _f32(0x3ed9999a) + _f64(0x3fdb333333333333)            # 0.425
NDTRI_CENTRAL_R_F32, NDTRI_CENTRAL_R_F64 = _f32(0x3e38f5c3) + _f64(0x3fc71eb851eb851f)    # 0.180625
NDTRI_MID_SHIFT_F32, NDTRI_MID_SHIFT_F64 = _f32(0x3fcccccd) + _f64(0x3ff999999999999a)    # 1.6
NDTRI_FAR_SHIFT_F32, NDTRI_FAR_SHIFT_F64 = _f32(0x40a00000) + _f64(0x4014000000000000)    # 5.0
