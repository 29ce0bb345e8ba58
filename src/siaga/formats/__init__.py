"""Pure parsers and builders for the wire formats Siaga112 speaks.

Nothing in this package imports Django: each module takes bytes or text and returns typed values, or
raises an error whose message names the field that was wrong and what is accepted.
"""
