"""Schema migrations, applied in numeric order by `pinghome migrate` (peewee's runner).

Each file declares frozen copies of the tables it touches, independent of the live models, so
that an old migration still means the same thing after the models move on.
"""
