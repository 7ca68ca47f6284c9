"""ippro's Keras converter: Keras model files to TensorFlow.js LayersModels and back."""
