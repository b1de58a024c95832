"""Local stand-ins for vendors' APIs, checking each request as the vendor documents it.

The tests and ``blendbot demo`` use them; the running service never imports them.
"""
