"""fastinit's bits on the device: Triton kernels (``kernels``) and their
launcher (``launch.fill``), below any framework adapter. Needs Triton (the
``gpu`` extra); ``import fastinit`` never imports this package."""
