"""puente: a bilingual (English/Spanish) public-awareness microsite generator."""

__version__ = "0.1.0"
