import streamlit as st
st.title("Report")
