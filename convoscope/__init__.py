"""convoscope"""
